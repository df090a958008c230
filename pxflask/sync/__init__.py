"""The sync engine: mappers, link store, change detection, entity steps. No Flask."""
