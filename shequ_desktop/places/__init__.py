"""Where people live: the grid hierarchy (街道 → 社区 → 网格 → 小区 → 楼栋 → 单元) and its services, buildings
and rooms, pickers, the first community of a database."""
