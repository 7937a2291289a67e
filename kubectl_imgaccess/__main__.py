"""`python -m kubectl_imgaccess` runs the same program as the `kubectl-imgaccess` executable."""

from kubectl_imgaccess.cli.main import main

raise SystemExit(main())
