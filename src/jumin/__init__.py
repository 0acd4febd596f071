"""Jumin — an open-source resident register (住民基本台帳システム)."""

__version__ = "0.1.0"
