"""Volunteers, their teams, activities with sign-in sheets, points and hours."""
