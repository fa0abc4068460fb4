#!/usr/bin/perl

# A rider's track as GPX 1.1 (core/race_stats.c) is valid against the
# schema: t/tools/gpx_sample writes one (names to escape or not UTF-8,
# points with and without elevation, at the coordinates' edges) and
# xmllint (Debian's libxml2-utils) validates it against t/gpx/
# gpx11_track.xsd, written from the GPX 1.1 standard's structure for
# the elements a track uses.  The same file with a trkpt's time before
# its ele, or a longitude of 180, must fail: the schema checks order.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Race::Test;

my $t = Race::Test->new;
my $bin = $t->build . '/t/gpx_sample';
my $xsd = $t->root . '/t/gpx/gpx11_track.xsd';

-x $bin or die "$bin is missing: run ./build.sh test\n";

my ($xmllint) = grep { -x } map { "$_/xmllint" } split /:/, $ENV{PATH};
ok($xmllint, 'xmllint is installed (libxml2-utils)')
    or BAIL_OUT('xmllint is needed');

my $gpx = `$bin`;
is($? >> 8, 0, 'gpx_sample wrote a track');
my $point = '<trkpt lat="45.0700000" lon="7.6800000"><ele>239.5</ele>'
    . '<time>2024-11-23T22:13:20Z</time></trkpt>';
like($gpx, qr{\Q$point\E}, 'a point, ele first');

sub validate {
    my ($name, $text) = @_;
    my $file = $t->write_file("$name.gpx", $text);

    my $out = `$xmllint --noout --schema $xsd $file 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = validate('track', $gpx);
is($rc, 0, 'the track is valid GPX 1.1') or diag($out);

(my $swapped = $gpx) =~
    s{(<ele>[^<]*</ele>)(<time>[^<]*</time>)}{$2$1};
isnt($swapped, $gpx, 'a point with time before ele');
($rc, $out) = validate('swapped', $swapped);
isnt($rc, 0, 'time before ele is refused');

(my $lon = $gpx) =~ s{lon="-180\.0000000"}{lon="180.0000000"};
($rc, $out) = validate('lon', $lon);
isnt($rc, 0, 'a longitude of 180 is refused');

(my $version = $gpx) =~ s{version="1\.1" creator}{version="1.0" creator};
($rc, $out) = validate('version', $version);
isnt($rc, 0, 'another version is refused');

done_testing();
