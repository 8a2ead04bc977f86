"""The content: config.toml, episodes/ and events/ read and validated into models."""
