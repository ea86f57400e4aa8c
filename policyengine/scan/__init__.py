"""The record-level gate over text batches: self-identification signatures and, later, the scanner."""
