"""Tests of apiconform.auth: the flows, a flow defined outside the package, identity probes."""
