"""Read-side queries: plain functions over the read models, one module per area. They never write and never load aggregates."""
