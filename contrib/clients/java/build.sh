#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Builds the genid Java client with plain javac and jar, and runs its tests
# with the JUnit 5 console launcher of Debian's junit5 package; no network,
# no Maven or Gradle.
#
#   sh build.sh          compile, make the jar, run the tests
#   sh build.sh jar      compile and make the jar only
#   sh build.sh test     the same as no argument
#
# The jar is $BUILD_DIR/genid-client.jar (BUILD_DIR defaults to build/ next
# to this script): package io.github.genidproject.genid, LICENSE in
# META-INF and the licence in its manifest.  The tests start the real
# genid through tests/clients/run_genid.py: set GENID to the genid binary
# of a build (GENID=/path/to/build/src/genid); GENID_CLIENT_TESTS
# overrides where tests/clients is.  Needs openjdk-17-jdk-headless, junit5 and python3
# (contrib/clients/deps.sh installs them).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pkg=io/github/genidproject/genid
build=${BUILD_DIR:-$here/build}
what=${1:-test}
junit=${JUNIT_CONSOLE:-/usr/share/java/junit-platform-console-standalone.jar}

case $what in
jar | test) ;;
*)
	echo "build.sh: unknown target '$what' (jar or test)" >&2
	exit 64
	;;
esac
command -v javac >/dev/null 2>&1 || {
	echo "build.sh: no javac: apt-get install openjdk-17-jdk-headless" >&2
	exit 69
}

rm -rf "$build/classes" "$build/test-classes"
mkdir -p "$build/classes" "$build/test-classes"
javac --release 17 -Xlint:all -Werror -encoding UTF-8 -d "$build/classes" \
	"$here/src/main/java/$pkg"/*.java
mkdir -p "$build/classes/META-INF"
cp "$here/LICENSE" "$build/classes/META-INF/LICENSE"
# Bundle-License is the manifest's licence header (OSGi's), which tools
# that list the licences of a class path read.
printf '%s\n' 'Automatic-Module-Name: io.github.genidproject.genid' \
	'Implementation-Title: genid client' 'Implementation-Version: 0.1.0' \
	'Bundle-License: BSD-2-Clause' >"$build/manifest.txt"
jar --create --file "$build/genid-client.jar" --manifest "$build/manifest.txt" \
	-C "$build/classes" .
echo "built $build/genid-client.jar"
[ "$what" = jar ] && exit 0

[ -r "$junit" ] || {
	echo "build.sh: no JUnit console launcher at $junit: apt-get install junit5" >&2
	exit 69
}
javac --release 17 -Xlint:all -Xlint:-processing -Werror -encoding UTF-8 \
	-cp "$build/classes:$junit" -d "$build/test-classes" \
	"$here/src/test/java/$pkg"/*.java
cd "$here"
java -Dgenid.classes="$build/genid-client.jar" -jar "$junit" --disable-banner --disable-ansi-colors --details=tree --fail-if-no-tests \
	-cp "$build/classes:$build/test-classes" --select-package io.github.genidproject.genid
