"""QR check-in: guests and tickets, one check-in function, the scanner, offline sync, live arrivals."""
