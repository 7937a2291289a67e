"""kubectl-imgaccess: can every pod of a WebLogic Domain pull every image it needs?"""

__version__ = "0.1.0"
