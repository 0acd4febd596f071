"""Pure-Python administrative primitives: identifiers, wareki, names, relationships, findings.

This package imports nothing from Django or from the rest of ``jumin`` (an import-linter
contract enforces it), so it can be property-tested in isolation and reused anywhere.
"""
