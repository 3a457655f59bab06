"""beam-swallow: SwallowCode / SwallowMath transform-and-retain pipelines on Apache Beam."""

__version__ = "0.1.0"
