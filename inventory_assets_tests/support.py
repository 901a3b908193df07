"""Constants the test helpers share; imports no other test module.

conftest, cli_runner and browser all import from here, so none of them has to
import another (which made an import cycle: conftest -> browser -> cli_runner ->
conftest). Nothing here builds anything when imported.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_API_KEY = "test-key-Zq7!x/9+s3cr3t"
