"""Open-book cost returns: the cost model, unit costs per contact hour, wage floors and the market."""
