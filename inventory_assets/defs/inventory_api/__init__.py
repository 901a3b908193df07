"""The vendor's inventory API as a component: defs.yaml, and the definitions it builds."""
