"""KPI results, incentive schemes and the yearly assessment of incentive payments."""
