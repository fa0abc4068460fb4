#!/usr/bin/perl

# race-sim rides a GPX course through the real pipeline (nginx, Kafka,
# race-tracker, FerretDB, Redis): riders from a tokens file start from
# the line together, ride two laps of a small loop with GPS noise and
# dead zones, take a few fixes past the line and stop, so the race ends
# by itself.  Every fix is acked and stored, on the course, where the
# truth file says the rider was; the truth has every finish time.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Time::HiRes qw(time sleep);
use List::Util qw(max min);
use POSIX qw(floor);
use Race::Test;
use Race::Platform;
use Race::Token;
use JSON::PP qw(decode_json);

my $t = Race::Test->new;
my $p = Race::Platform->start($t, tick_ms => 200);
my $port = $p->port;

my $RACE = 'sc1';
my @RIDERS = qw(ann bob cy);
my ($LAPS, $NOISE, $INTERVAL, $TAIL) = (2, 8, 200, 3);

# a loop of about 250 m round a block: a rectangle, start = finish
my ($LAT0, $LON0) = (45.07, 7.68);
my $MLAT = 111_195;
my $MLON = $MLAT * cos($LAT0 * 3.14159265358979 / 180);
my @corner = ([0, 0], [0, 40], [0, 80], [45, 80], [45, 40], [45, 0], [0, 0]);
my @pts = map { [$LAT0 + $_->[0] / $MLAT, $LON0 + $_->[1] / $MLON] } @corner;

my $gpx = qq{<?xml version="1.0" encoding="UTF-8"?>\n}
    . qq{<gpx version="1.1" creator="sim_course.t" }
    . qq{xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>\n}
    . join('', map { sprintf qq{<trkpt lat="%.7f" lon="%.7f">}
        . qq{<ele>240</ele></trkpt>\n}, @$_ } @pts)
    . "</trkseg></trk></gpx>\n";
my $course = $t->write_file('loop.gpx', $gpx);

# tokens as the races API gives them when riders are added
my $tokens = $t->write_file('riders.tokens', join '',
    "# race rider token\n",
    map { "$RACE $_ " . Race::Token::mint(secret => $p->secret,
        kid => 'k1', race => $RACE, rider => $_) . "\n" } @RIDERS);

my $truth_file = $t->dir . '/truth.json';

my $r = $p->sim('--url', "ws://127.0.0.1:$port/ride",
    '--tokens', $tokens, '--course', $course, '--laps', $LAPS,
    '--speed', 20, '--speed-spread', 0.1, '--noise', $NOISE,
    '--interval-ms', $INTERVAL, '--batch-every', 5, '--live-fixes', 10,
    '--truth', $truth_file, '--seed', 7, '--drain-seconds', 60);

is($r->{rc}, 0, 'race-sim ends by itself, every fix acked')
    or diag($r->{output});
cmp_ok($r->{sent}, '>', 100, "the riders sent fixes ($r->{sent})");
is($r->{acked}, $r->{sent}, 'all acked');
is($r->{unacked}, 0, 'none left unacked');
is_deeply([sort map { "$_->{race}/$_->{rider}" } @{$r->{riders}}],
    [map { "$RACE/$_" } sort @RIDERS], 'the riders of the tokens file');

my $truth = eval {
    open my $fh, '<', $truth_file or die "$truth_file: $!\n";
    local $/;
    decode_json(<$fh>);
} || {};
my $len = $truth->{course}{length_m} // 0;
my $lap = $truth->{course}{lap_length_m} // 1;

ok($len > 480 && $len < 520, "the truth has the course: $len m");
is($truth->{course}{laps}, $LAPS, 'of 2 laps');
is(scalar @{$truth->{riders} || []}, @RIDERS, 'and every rider');

my %truth;
for my $tr (@{$truth->{riders} || []}) {
    my $who = $tr->{rider};
    $truth{$who} = $tr;
    my @fixes = @{$tr->{fixes}};

    ok(defined $tr->{finish} && $tr->{finish} > $tr->{start},
        "$who: a finish time");
    is($tr->{sent}, scalar @fixes, "$who: the truth of every fix sent");
    is($tr->{acked}, $tr->{sent}, "$who: all acked");

    # past the line: exactly the last few fixes, then silence
    my @after = grep { $_->[1] >= ($tr->{finish} // 0) } @fixes;
    is(scalar @after, $TAIL, "$who: $TAIL fixes past the line");
    is_deeply([map { $_->[0] } @after],
        [map { $_->[0] } @fixes[-$TAIL .. -1]], "$who: and then none");
    ok($fixes[-1][2] > $len, "$who: rolling on past the line");
    cmp_ok($tr->{last_t} - $tr->{finish}, '<=', $TAIL * $INTERVAL + 1000,
        "$who: stopped right after finishing");

    # the course distance of every fix grows, never back
    my $back = grep { $fixes[$_][2] < $fixes[$_ - 1][2] } 1 .. $#fixes;
    is($back, 0, "$who: never goes back");
    ok($fixes[0][2] < 20, "$who: from the start");
}

is(scalar(keys %{{ map { $_->{start} => 1 } values %truth }}), 1,
    'everybody started together');

# every fix stored, once
my $all = $r->{sent};
my $end = time + 60;
my $count = 0;
while (time < $end) {
    $count = $p->mongo_count(qq{{"race":"$RACE"}});
    last if $count =~ /^\d+$/ && $count >= $all;
    sleep 0.5;
}
is($count, $all, "MongoDB holds the $all fixes");

# metres east and north of the course's first point
sub xy {
    my ($lat, $lon) = @_;
    return (($lon - $LON0) * $MLON, ($lat - $LAT0) * $MLAT);
}

my @cxy = map { [xy(@$_)] } @pts;
my @cdist = (0);
push @cdist, $cdist[-1] + hypot(@{$cxy[$_]}, @{$cxy[$_ - 1]})
    for 1 .. $#cxy;

sub hypot {
    my ($x1, $y1, $x2, $y2) = @_;
    return sqrt(($x1 - $x2) ** 2 + ($y1 - $y2) ** 2);
}

# the distance from (x, y) to the loop
sub off_course {
    my ($x, $y) = @_;
    my $best = 1e9;
    for my $i (1 .. $#cxy) {
        my ($ax, $ay) = @{$cxy[$i - 1]};
        my ($bx, $by) = @{$cxy[$i]};
        my ($dx, $dy) = ($bx - $ax, $by - $ay);
        my $u = (($x - $ax) * $dx + ($y - $ay) * $dy) / ($dx ** 2 + $dy ** 2);
        $u = $u < 0 ? 0 : $u > 1 ? 1 : $u;
        $best = min($best, hypot($x, $y, $ax + $u * $dx, $ay + $u * $dy));
    }
    return $best;
}

# the place at course distance d, round the loop (past the line too)
sub place {
    my ($d) = @_;
    $d -= $cdist[-1] * floor($d / $cdist[-1]);
    for my $i (1 .. $#cxy) {
        next if $d > $cdist[$i];
        my $f = ($d - $cdist[$i - 1]) / ($cdist[$i] - $cdist[$i - 1]);
        return ($cxy[$i - 1][0] + $f * ($cxy[$i][0] - $cxy[$i - 1][0]),
            $cxy[$i - 1][1] + $f * ($cxy[$i][1] - $cxy[$i - 1][1]));
    }
    return @{$cxy[-1]};
}

my (@off, @from_truth, %t_wrong, %stored);
for my $line (split /\n/, $p->mongo('find', qq{{"race":"$RACE"}})) {
    my $doc = eval { decode_json($line) } or next;
    my ($x, $y) = xy($doc->{lat}, $doc->{lon});
    push @off, off_course($x, $y);
    $stored{$doc->{rider}}++;

    my $tr = $truth{$doc->{rider}} or next;
    my $fix = $tr->{fixes}[$doc->{seq} - 1];
    if (!$fix || $fix->[0] != $doc->{seq} || $fix->[1] != $doc->{t}) {
        $t_wrong{$doc->{rider}}++;
        next;
    }
    push @from_truth, hypot($x, $y, place($fix->[2]));
}

is(scalar @off, $all, 'every stored fix read back');
cmp_ok(max(@off, 0), '<=', $NOISE + 5,
    "every fix lies on the course, within the noise + 5 m");
cmp_ok(max(@off, 0), '>', 1, 'and the noise moved them off the line');
is_deeply(\%t_wrong, {}, 'each stored fix is one of the truth, by seq and t');
cmp_ok(max(@from_truth, 0), '<=', $NOISE + 1,
    'each where the truth says the rider was, within the noise');
is_deeply(\%stored, { map { $_ => $truth{$_}{sent} } @RIDERS },
    'each rider\'s fixes are stored, up to the last one sent');

$t->done;
