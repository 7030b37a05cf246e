from paperdiary.cli.main import main

main()
