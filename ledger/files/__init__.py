"""Files in and out: cost return and KPI templates, visit files, and the chunk store the visit rows are staged in."""
