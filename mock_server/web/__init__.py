"""The thin Starlette layer: parse, validate, call one backend verb, serialise."""
