"""The vendor's API as a Dagster component: `defs.yaml` in, every inventory definition out.

`InventoryApiComponent` validates its YAML attributes once, into
`InventorySettings` (settings.py), and builds, per endpoint: the `@dlt_assets`
that loads it, its quality checks, its reconciliation with the API, its jobs,
its schedule and change sensor, and for windowed endpoints its daily
partitions and partition freshness check; plus the marts over the endpoint
`marts_from` names, the resources, the executor, the freshness sensor and the
automation sensor that all endpoints share.
"""

from __future__ import annotations

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
    ScheduleDefinition,
    SensorDefinition,
)
from pydantic import BaseModel

from inventory_assets.defs.inventory_api.assets import IngestSpec, build_ingest_assets
from inventory_assets.defs.inventory_api.attributes import component_model
from inventory_assets.defs.inventory_api.checks import CheckedTable, build_quality_checks
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
from inventory_assets.defs.inventory_api.resources import build_resources
from inventory_assets.defs.inventory_api.sensors import (
    build_automation_sensor,
    build_change_sensor,
    build_daily_schedule,
)
from inventory_assets.probe.job import build_probe_job
from inventory_assets.settings import EndpointSettings, InventorySettings, settings_from_attributes


@dataclass(frozen=True)
class EndpointDefinitions:
    """Everything built for one endpoint, by name (tests and `build_definitions` use it)."""

    key: AssetKey
    assets: AssetsDefinition
    quality_checks: AssetChecksDefinition
    rows_match_api: AssetChecksDefinition
    freshness_checks: tuple[AssetChecksDefinition, ...]
    ingest_job: AssetJob
    reconcile_job: AssetJob
    schedule: ScheduleDefinition
    change_sensor: SensorDefinition

    @property
    def checks(self) -> list[AssetChecksDefinition]:
        """The checks a load runs with: quality, reconciliation, partition freshness."""
        return [self.quality_checks, self.rows_match_api, *self.freshness_checks]


def build_endpoint(
    settings: InventorySettings, name: str, endpoint_settings: EndpointSettings
) -> EndpointDefinitions:
    """The asset, checks, jobs and sensors of one endpoint."""
    endpoint = endpoint_settings.endpoint(name, settings.api)
    key = AssetKey([settings.group, name])
    partitions = (
        daily_partitions(settings.partitions_start) if endpoint_settings.partitioned else None
    )
    assets = build_ingest_assets(
        IngestSpec(
            endpoint=endpoint,
            key=key,
            group=settings.group,
            description=endpoint_settings.description,
            partitions_def=partitions,
            freshness_policy=None if partitions else freshness_policy(settings.freshness),
            pool=settings.api.pool,
            mode=endpoint_settings.sync_mode,
            deletes=endpoint_settings.deletes,
        )
    )
    table = CheckedTable(key, endpoint, windowed=partitions is not None)
    quality = build_quality_checks(table, endpoint_settings.not_negative)
    reconciliation = build_rows_match_api(table, partitions, endpoint_settings.sync_mode)
    freshness = tuple(partition_freshness_checks([key], settings.freshness)) if partitions else ()
    ingest = ingest_job(name, key, [quality, reconciliation, *freshness], partitions)
    interval = settings.sensors.change_interval_seconds
    if endpoint_settings.sync_mode == "window":
        change_sensor = build_change_sensor(endpoint, ingest, partitions, interval)
    else:
        change_sensor = build_listing_sensor(endpoint, ingest, partitions, interval)
    return EndpointDefinitions(
        key=key,
        assets=assets,
        quality_checks=quality,
        rows_match_api=reconciliation,
        freshness_checks=freshness,
        ingest_job=ingest,
        reconcile_job=reconcile_job(name, reconciliation, partitions),
        schedule=build_daily_schedule(ingest, partitioned=partitions is not None),
        change_sensor=change_sensor,
    )


def build_endpoints(settings: InventorySettings) -> dict[str, EndpointDefinitions]:
    return {
        name: build_endpoint(settings, name, endpoint)
        for name, endpoint in settings.endpoints.items()
    }


def build_definitions(settings: InventorySettings) -> Definitions:
    """Every definition of the vendor's API, from validated settings."""
    endpoints = build_endpoints(settings).values()
    freshness = [check for built in endpoints for check in built.freshness_checks]
    sensors = [built.change_sensor for built in endpoints]
    if freshness:
        sensors.append(freshness_sensor(freshness, settings.sensors.freshness_interval_seconds))
    sensors.append(
        build_automation_sensor(settings.group, settings.sensors.automation_interval_seconds)
    )
    probed = {
        name: (endpoint.endpoint(name, settings.api), endpoint.sync_mode)
        for name, endpoint in settings.endpoints.items()
    }
    marts = marts_for(settings)
    return Definitions(
        assets=[*(built.assets for built in endpoints), *(marts.assets if marts else ())],
        asset_checks=[check for built in endpoints for check in built.checks],
        jobs=[
            *(job for built in endpoints for job in (built.ingest_job, built.reconcile_job)),
            build_probe_job(probed),
            *([marts.refresh_job] if marts else []),
        ],
        schedules=[built.schedule for built in endpoints],
        sensors=sensors,
        resources=build_resources(settings),
        executor=build_executor(settings.executor),
    )


def marts_for(settings: InventorySettings) -> Marts | None:
    """The marts over the endpoint `marts_from` names, in the component's group."""
    if settings.marts_from is None:
        return None
    upstream = settings.endpoints[settings.marts_from].endpoint(settings.marts_from, settings.api)
    return build_marts(settings.group, upstream)


class InventoryApiComponent(Component):
    """Loads a vendor's inventory API with dlt: one asset per endpoint, checked and fresh."""

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
