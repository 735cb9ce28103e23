"""社区网格工作台: the domain. Records, validation, services, reports, CLI. Never imports Qt."""
__version__ = "0.1.0"
