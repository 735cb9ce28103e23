"""Where imported households land: buildings, units and rooms found or created beneath the
unit the user picked (a street, community, grid or compound), from the parsed address.

Rule for an address that follows no known pattern: the household is imported without a room
(house_id NULL) and the address text is kept in its notes ("导入地址：…"), so nothing typed is
lost and the 户 page shows it; the grid worker places it later with 整户搬迁.
"""
from __future__ import annotations

import dataclasses

from shequ_desktop.core import tree
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.statuses import OWNER_OCCUPIED
from shequ_desktop.places import grid
from shequ_desktop.transfer.importing.normalize import Address, floor_of, number_of

TARGET_LEVELS = ("street", "community", "grid", "compound")


class Places:
    def __init__(self, ctx: Context, target_id: int):
        self.ctx = ctx
        target = ctx.get("grid_units", target_id)
        if target["level"] not in TARGET_LEVELS:
            raise DomainError(f"请选择社区、网格或小区作为导入位置（“{target['name']}”是"
                              f"{tree.LEVEL_LABELS[target['level']]}）")
        self.target = target
        units = tree.subtree_units(ctx.conn, target_id)
        self.compounds = {u["name"]: u["id"] for u in units if u["level"] == "compound"}
        self.buildings: dict[tuple, int] = {}      # (compound id or None, number) -> id
        self.any_building: dict[str, list[int]] = {}
        compound_ids = set(self.compounds.values())
        for u in units:
            if u["level"] == "building":
                parent = u["parent_id"] if u["parent_id"] in compound_ids else None
                self.buildings.setdefault((parent, number_of(u["name"])), u["id"])
                self.any_building.setdefault(number_of(u["name"]), []).append(u["id"])
        self.units = {(u["parent_id"], number_of(u["name"])): u["id"]
                      for u in units if u["level"] == "unit"}
        ids = [u["id"] for u in units if u["level"] in tree.HOUSE_LEVELS]
        self.houses: dict[tuple, int] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for hid, unit_id, room in ctx.conn.execute(
                    f"SELECT id, unit_id, room_no FROM houses WHERE unit_id IN "
                    f"({','.join('?' * len(chunk))})", chunk):
                self.houses[(unit_id, room)] = hid
        self.new_houses: list[tuple] = []
        self.next_house = ctx.conn.execute("SELECT coalesce(max(id), 0) FROM houses"
                                           ).fetchone()[0] + 1
        self.created_units = 0
        self.created_houses = 0

    def house(self, address: Address) -> int:
        """The room's id, creating what is missing (houses are collected for one bulk insert)."""
        holder = self._unit(self._building(address), address.unit)
        key = (holder, address.room)
        if key not in self.houses:
            self.houses[key] = self.next_house
            self.new_houses.append((self.next_house, holder, address.room,
                                    floor_of(address.room), OWNER_OCCUPIED))
            self.next_house += 1
        return self.houses[key]

    def _building(self, address: Address) -> int:
        compound = None
        if address.compound and self.target["level"] != "compound":
            compound = self.compounds.get(address.compound)
            if compound is None:
                compound = self._create(self.target["id"], "compound", address.compound)
                self.compounds[address.compound] = compound
        key = (compound, address.building)
        if key not in self.buildings:
            candidates = self.any_building.get(address.building, [])
            if compound is None and len(candidates) == 1:
                return candidates[0]               # '3号楼' alone, and only one 3号楼 here
            parent = compound or self.target["id"]
            name = address.building + ("号楼" if address.building.isdigit() else "座")
            self.buildings[key] = self._create(parent, "building", name)
        return self.buildings[key]

    def _unit(self, building: int, unit: str) -> int:
        if not unit:
            return building
        key = (building, unit)
        if key not in self.units:
            self.units[key] = self._create(building, "unit", f"{unit}单元")
        return self.units[key]

    def _create(self, parent: int, level: str, name: str) -> int:
        self.created_units += 1
        new_id = grid.create_unit(self.ctx, parent, level, name).id
        access = self.ctx.access
        if access is not None and access.restricted:      # a 网格员 reads the new unit too
            self.ctx.access = dataclasses.replace(access, readable=None)
        return new_id

    def flush(self) -> None:
        """Insert the rooms collected so far (inside the caller's transaction)."""
        self.ctx.bulk_insert("houses", ["id", "unit_id", "room_no", "floor", "usage"],
                             self.new_houses)
        self.created_houses += len(self.new_houses)
        self.new_houses = []


class NoPlaces:
    """No target unit: only households without a parsable address may be imported."""
    created_units = created_houses = 0

    def house(self, address: Address) -> int:
        raise DomainError("请选择导入到哪个社区或网格")

    def flush(self) -> None:
        pass
