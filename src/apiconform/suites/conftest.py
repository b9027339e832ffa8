"""Conformance suites: driven entirely by the contracts in ../contracts (see the apiconform pytest plugin).

Run all:  pytest suites            One vendor:  pytest suites --vendor eduframe
A live target:  pytest suites --target eduframe=https://...      Categories:  pytest suites -m enum
"""
