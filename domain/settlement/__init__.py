"""The pooled budget, payments on account, and the year-end risk and gain share settlement."""
