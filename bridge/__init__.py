"""voipbridge: VoIP usage billing for WHMCS."""

__version__ = "0.1.0"
