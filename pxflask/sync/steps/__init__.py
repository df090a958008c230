"""One module per entity step; each exposes run(ctx) -> StepReport."""
