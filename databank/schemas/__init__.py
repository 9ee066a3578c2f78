"""marshmallow load and dump schemas of the JSON API: no database access, no permission checks."""
