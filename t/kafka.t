#!/usr/bin/perl

# The harness brings up a real Kafka broker (KRaft, one node) that
# librdkafka can produce to and consume from, and a broker stopped and
# started again keeps its topics and messages.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use Race::Test;
use Race::Engine::Kafka;

my $t = Race::Test->new;

my $smoke = $t->build . '/t/kafka_smoke';
die "no $smoke: build it first (make -C t BUILD=...)\n" unless -x $smoke;

my $t0 = time;
my $bootstrap = $t->kafka;
diag(sprintf('kafka started in %.1fs', time - $t0));

like($bootstrap, qr/^127\.0\.0\.1:\d+$/, 'bootstrap address');

my @brokers = Race::Engine::Kafka::metadata($bootstrap =~ /:(\d+)$/);
is_deeply(\@brokers, [$bootstrap], 'metadata lists the one broker');

# runs the smoke tool, returns (exit code, "produced", "consumed",
# "earlier", output)
sub smoke {
    my ($topic, $count) = @_;

    my $out = `'$smoke' '$bootstrap' '$topic' $count 2>&1`;
    my $rc = $? >> 8;
    my %n = map { /^(produced|consumed|earlier) (\d+)$/ ? ($1 => $2) : () }
        split /\n/, $out;

    return ($rc, $n{produced}, $n{consumed}, $n{earlier}, $out);
}

my ($rc, $produced, $consumed, $earlier, $out) = smoke('race.smoke', 200);
is($rc, 0, 'smoke exits 0') or diag($out);
is($produced, 200, 'produced 200');
is($consumed, 200, 'consumed 200 in order');
is($earlier, 0, 'new topic had nothing in it');

# a second run on the same topic sees the first run's messages too
($rc, $produced, $consumed, $earlier, $out) = smoke('race.smoke', 50);
is($rc, 0, 'second smoke exits 0') or diag($out);
is($consumed, 50, 'second run consumed its 50');
is($earlier, 200, 'and found the 200 before them');

# stop the broker and start it again: same address, same data
Race::Engine::Kafka::stop($t);
ok(!Race::Engine::Kafka::metadata($bootstrap =~ /:(\d+)$/),
    'stopped broker does not answer');

$t0 = time;
is($t->kafka, $bootstrap, 'restarted on the same address');
diag(sprintf('kafka restarted in %.1fs', time - $t0));

($rc, $produced, $consumed, $earlier, $out) = smoke('race.smoke', 100);
is($rc, 0, 'smoke after restart exits 0') or diag($out);
is($consumed, 100, 'consumed 100 after restart');
is($earlier, 250, 'messages from before the restart survived');

($rc, $produced, $consumed, $earlier, $out) = smoke('race.other', 10);
is($rc, 0, 'a topic created after the restart works') or diag($out);

# the broker logged no errors
my $log = $t->read_file('kafka.log');
my @errors = grep { / (ERROR|FATAL) / } split /\n/, $log;
splice(@errors, 10) if @errors > 10;
ok(!@errors, 'no ERROR in kafka.log') or diag(join "\n", @errors);

$t->done;
