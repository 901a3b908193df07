"""The vendor's API as a Dagster component: `defs.yaml` in, every inventory definition out.

`InventoryApiComponent` validates its YAML attributes once, into
`InventorySettings` (settings.py), and builds, per endpoint: the `@dlt_assets`
that loads it, its quality checks, its reconciliation with the API, its jobs,
its schedule and change sensor, and for windowed endpoints its daily
partitions and partition freshness check; plus the marts over the endpoint
`marts_from` names, the vendor watch (`<group>/vendor_contract`), and what all
endpoints share: the resources, the executor, the freshness and automation
sensors, the probe job and the backfill plan job.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dagster import (
    AssetChecksDefinition,
    AssetKey,
    AssetsDefinition,
    Component,
    ComponentLoadContext,
    Definitions,
    PreviewWarning,
    ScheduleDefinition,
    SensorDefinition,
    scaffold_with,
)
from pydantic import BaseModel

from inventory_assets.defs.inventory_api.assets import build_ingest_assets
from inventory_assets.defs.inventory_api.attributes import component_model
from inventory_assets.defs.inventory_api.checks import build_quality_checks
from inventory_assets.defs.inventory_api.endpoint_spec import EndpointSpec
from inventory_assets.defs.inventory_api.executor import build_executor
from inventory_assets.defs.inventory_api.freshness import (
    freshness_policy,
    freshness_sensor,
    partition_freshness_checks,
)
from inventory_assets.defs.inventory_api.jobs import AssetJob, ingest_job, reconcile_job
from inventory_assets.defs.inventory_api.listing_sensor import build_listing_sensor
from inventory_assets.defs.inventory_api.marts import Marts, build_marts
from inventory_assets.defs.inventory_api.partitions import daily_partitions
from inventory_assets.defs.inventory_api.reconciliation import build_rows_match_api
from inventory_assets.defs.inventory_api.resources import ResourceKeys, build_resources
from inventory_assets.defs.inventory_api.scaffolder import InventoryApiScaffolder
from inventory_assets.defs.inventory_api.sensors import (
    build_automation_sensor,
    build_change_sensor,
    build_daily_schedule,
)
from inventory_assets.defs.inventory_api.vendor_contract import build_vendor_watch
from inventory_assets.planning.job import build_backfill_plan_job
from inventory_assets.probe.job import build_probe_job
from inventory_assets.settings import InventorySettings, settings_from_attributes


@dataclass(frozen=True)
class EndpointDefinitions:
    """Everything built for one endpoint, by name (tests and `build_definitions` use it)."""

    spec: EndpointSpec
    assets: AssetsDefinition
    quality_checks: AssetChecksDefinition
    rows_match_api: AssetChecksDefinition
    freshness_checks: tuple[AssetChecksDefinition, ...]
    ingest_job: AssetJob
    reconcile_job: AssetJob
    schedule: ScheduleDefinition
    change_sensor: SensorDefinition

    @property
    def key(self) -> AssetKey:
        return self.spec.key

    @property
    def checks(self) -> list[AssetChecksDefinition]:
        """The checks a load runs with: quality, reconciliation, partition freshness."""
        return [self.quality_checks, self.rows_match_api, *self.freshness_checks]


def endpoint_spec(settings: InventorySettings, name: str) -> EndpointSpec:
    """The endpoint `name` of the settings, in their group, with their partitions and pool."""
    configured = settings.endpoints[name]
    partitions = daily_partitions(settings.partitions_start) if configured.partitioned else None
    return EndpointSpec(
        endpoint=configured.endpoint(name, settings.api),
        key=AssetKey([settings.group, name]),
        resources=ResourceKeys(settings.group),
        description=configured.description,
        partitions_def=partitions,
        freshness_policy=None if partitions else freshness_policy(settings.freshness),
        pool=settings.api.pool,
    )


def build_endpoint(settings: InventorySettings, spec: EndpointSpec) -> EndpointDefinitions:
    """The asset, checks, jobs and sensors of one endpoint."""
    quality = build_quality_checks(spec)
    reconciliation = build_rows_match_api(spec)
    freshness = (
        tuple(partition_freshness_checks([spec.key], settings.freshness)) if spec.windowed else ()
    )
    ingest = ingest_job(spec, [quality, reconciliation, *freshness])
    interval = settings.sensors.change_interval_seconds
    build_sensor = build_listing_sensor if spec.whole_listing else build_change_sensor
    return EndpointDefinitions(
        spec=spec,
        assets=build_ingest_assets(spec),
        quality_checks=quality,
        rows_match_api=reconciliation,
        freshness_checks=freshness,
        ingest_job=ingest,
        reconcile_job=reconcile_job(spec, reconciliation),
        schedule=build_daily_schedule(ingest, partitioned=spec.windowed),
        change_sensor=build_sensor(spec, ingest, interval),
    )


def build_endpoints(settings: InventorySettings) -> dict[str, EndpointDefinitions]:
    return {
        name: build_endpoint(settings, endpoint_spec(settings, name)) for name in settings.endpoints
    }


def build_definitions(settings: InventorySettings) -> Definitions:
    """Every definition of one instance (one vendor), from validated settings; its names
    and resource keys are its group's, so several instances load side by side."""
    endpoints = build_endpoints(settings).values()
    probed = [built.spec.endpoint for built in endpoints]  # by the probe, plan and watch
    freshness = [check for built in endpoints for check in built.freshness_checks]
    sensors = [built.change_sensor for built in endpoints]
    if freshness:
        interval = settings.sensors.freshness_interval_seconds
        sensors.append(freshness_sensor(settings.group, freshness, interval))
    sensors.append(
        build_automation_sensor(settings.group, settings.sensors.automation_interval_seconds)
    )
    marts = marts_for(settings)
    resources = build_resources(settings)
    defs = Definitions(
        assets=[*(built.assets for built in endpoints), *(marts.assets if marts else ())],
        asset_checks=[check for built in endpoints for check in built.checks],
        jobs=[
            *(job for built in endpoints for job in (built.ingest_job, built.reconcile_job)),
            build_probe_job(ResourceKeys(settings.group), probed),
            build_backfill_plan_job(
                ResourceKeys(settings.group), probed, settings.partitions_start
            ),
            *([marts.refresh_job] if marts else []),
        ],
        schedules=[built.schedule for built in endpoints],
        sensors=sensors,
        resources=resources,
        executor=build_executor(settings.executor),
    )
    # Every asset so far is stored in the instance's warehouse: its kind shows which.
    # `map_asset_specs` is a preview API, and the one way to label assets of several
    # builders; its behaviour is what the tests check.
    destination = resources[ResourceKeys(settings.group).key("destination")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        stored = defs.map_asset_specs(func=destination.label)
    # The vendor watch keeps what it observes in its own metadata, not the warehouse.
    watch = build_vendor_watch(ResourceKeys(settings.group), probed, settings.api.pool)
    return Definitions.merge(
        stored, Definitions(assets=[watch.asset], jobs=[watch.job], schedules=[watch.schedule])
    )


def marts_for(settings: InventorySettings) -> Marts | None:
    """The marts over the endpoint `marts_from` names, in the component's group."""
    if settings.marts_from is None:
        return None
    return build_marts(endpoint_spec(settings, settings.marts_from))


@scaffold_with(InventoryApiScaffolder)
class InventoryApiComponent(Component):
    """Loads a vendor's inventory API with dlt: one asset per endpoint, checked and fresh.

    Each instance is one vendor, named by its group; `dg scaffold defs
    inventory_assets.InventoryApiComponent vendors/acme` adds another (scaffolder.py).
    """

    def __init__(self, settings: InventorySettings) -> None:
        self.settings = settings

    @classmethod
    def get_model_cls(cls) -> type[BaseModel]:
        return component_model()

    @classmethod
    def load(
        cls, attributes: BaseModel | None, context: ComponentLoadContext
    ) -> InventoryApiComponent:
        # As written: templates unrendered and defaults left out, so settings.py can
        # name the variable a bad value came from and apply each default once.
        raw: Mapping[str, Any] = attributes.model_dump(exclude_unset=True) if attributes else {}
        resolution = context.resolution_context.at_path("attributes")
        return cls(settings_from_attributes(raw, resolution.resolve_value))

    def build_defs(self, context: ComponentLoadContext) -> Definitions:
        return build_definitions(self.settings)
