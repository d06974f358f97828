"""Infrastructure services: one module each (blueprint, link, component), and the registry below."""
