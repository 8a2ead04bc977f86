"""Publishing: the built output sent to object storage, and the hubs told of it."""
