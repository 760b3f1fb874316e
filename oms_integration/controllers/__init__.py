from . import main
from . import monitoring
