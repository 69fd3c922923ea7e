from brankas.cli import main

main()
