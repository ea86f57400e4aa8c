"""`python -m policyengine` runs the command line."""

from policyengine.cli.main import main

main()
