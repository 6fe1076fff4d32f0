VALUE = "sealed"
