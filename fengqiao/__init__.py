"""Fengqiao (枫桥): the working model of a Fengqiao-style police station."""
