#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Stands in for the Check unit tests when configure did not find Check: a
# make check without them must not pass quietly.
echo "ERROR: the unit tests of src/core need Check, which configure did not find:"
echo "       apt-get install check, then run configure again"
exit 99
