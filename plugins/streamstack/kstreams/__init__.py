"""The Kafka Streams apps of ``jobs/kstreams``: build, run, query, stop and reset them.

Domain code only (no Airflow, no CLI): :mod:`.build` compiles the Maven project, :mod:`.apps`
says how each app is launched, :mod:`.control` runs them as managed processes.
"""
