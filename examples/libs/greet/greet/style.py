"""How a greeting is said."""


def shout(text):
    return text.upper() + "!"
