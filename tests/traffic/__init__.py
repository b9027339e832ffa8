"""Tests of apiconform.traffic: client traffic judged, recorded and replayed, fidelity."""
