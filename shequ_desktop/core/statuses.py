"""The statuses records carry, named once (the values are what the database stores, and
what the code tables and platforms write). Code and SQL use these names: SQL in f-strings as
'{ON_RECORD}' (constants, never user input).
"""

# residents (and households: 在册 / 注销)
ON_RECORD = "在册"
MOVED_OUT = "迁出"
DECEASED = "死亡"
CLOSED = "注销"          # a household whose last member left

# houses: what a room is used for
VACANT = "空置"
OWNER_OCCUPIED = "自住"
RENTED = "出租"
