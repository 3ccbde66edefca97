"""Process, JVM and Maven plumbing shared by the local stack and the Spark job control.

Generic and free of any service: pid files that survive the CLI, finding Java and Maven,
resolving jars once into the cache, port probes.
"""
