"""The demo city: a generated population loaded through the services, its cast and its areas."""
