from sactk.cli import main

main()
