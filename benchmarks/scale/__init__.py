"""siamdup at scale: a 500,000-question corpus, the index, `siamdup dedupe` and the service under load."""
