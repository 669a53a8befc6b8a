# Generated from openapi.yaml version 2.4.0. Do not edit.
"""Contains endpoint functions for accessing the API"""
