from castcal.cli import main

main()
