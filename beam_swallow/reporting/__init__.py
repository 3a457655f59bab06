"""What a person sees of a run: live progress, report.html, a record's journey, a plan.

One module per job: ``live`` (Beam's counters during a local run),
``progress`` (the per-stage lines), ``tokens`` (the named tokenizer),
``stats`` (distributions gathered in the pipeline), ``timing`` and ``params``
(what report.json records about the run), ``plots`` and ``html`` (the page),
``session`` (running and reporting), ``rebuild`` (``beam-swallow report``),
``journey`` (``beam-swallow inspect``), ``plan`` (``beam-swallow plan``).
"""
