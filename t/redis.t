#!/usr/bin/perl

# The harness brings up a real Redis and it answers.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Race::Test;
use Race::Engine::Redis;

my $t = Race::Test->new;
my $addr = $t->redis;
my ($port) = $addr =~ /:(\d+)$/;

like(Race::Engine::Redis::command($port, 'SET', 'race:smoke', 'ok'),
    qr/^\+OK/, 'redis set');
like(Race::Engine::Redis::command($port, 'GET', 'race:smoke'),
    qr/^\$2/, 'redis get');

Race::Engine::Redis::stop($t);
ok(!Race::Engine::Redis::ping($port), 'redis stopped');
$t->redis;
ok(Race::Engine::Redis::ping($port), 'redis restarted on the same port');

$t->done;
