from .pricing.tax import apply


def total(items):
    return round(apply(sum(items)), 2)
