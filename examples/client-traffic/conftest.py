import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # provider_client.py beside the test, as a team's package would be
