import { describe, expect, it } from 'vitest';
import type { PipelineProgress, RunSummary, StageProgress } from '@sgfd/contracts';
import { comparisonTable, duration, progressLine } from './progress-view';

const stage = (status: StageProgress['status'], extra: Partial<StageProgress> = {}): StageProgress => ({
  status,
  startedAt: null,
  finishedAt: null,
  epoch: null,
  maxEpochs: null,
  bestValid: null,
  reference: null,
  backend: null,
  ...extra,
});

describe('progress line', () => {
  it('marks each stage and shows the running training stage as a bar over its epoch limit with best, ETA and engine', () => {
    const p: PipelineProgress = {
      runId: 'r',
      stage: 'student',
      stages: {
        extract: stage('skipped'),
        ingest: stage('reused'),
        teacher: stage('done', { epoch: 10, maxEpochs: 10, bestValid: 0.41 }),
        student: stage('running', { epoch: 5, maxEpochs: 20, bestValid: 0.23456, backend: 'tensorflow' }),
        eval: stage('pending'),
      },
      etaSeconds: 75,
      updatedAt: '',
    };
    expect(progressLine(p)).toBe(
      '=ingest +teacher >student  eval  student [#####...............] epoch 5/20  best recall@20 0.2346  ETA <= 1m15s  on tensorflow',
    );
  });

  it('shows extraction of a raw catalogue as a bar over its items with items/s and ETA', () => {
    const p: PipelineProgress = {
      runId: 'r',
      stage: 'extract',
      stages: {
        extract: stage('running', { epoch: 64, maxEpochs: 256, bestValid: 12.34, backend: 'text encoder' }),
        ingest: stage('pending'),
        teacher: stage('pending'),
        student: stage('pending'),
        eval: stage('pending'),
      },
      etaSeconds: 16,
      updatedAt: '',
    };
    expect(progressLine(p)).toBe(
      '>extract  ingest  teacher  student  eval  extract [#####...............] 64/256 items  12.3 items/s  ETA 16s  (text encoder)',
    );
  });

  it('shows the outcome once nothing runs', () => {
    const p: PipelineProgress = {
      runId: 'r',
      stage: 'cancelled',
      stages: {
        extract: stage('skipped'),
        ingest: stage('done'),
        teacher: stage('skipped'),
        student: stage('cancelled'),
        eval: stage('pending'),
      },
      etaSeconds: null,
      updatedAt: '',
    };
    expect(progressLine(p)).toBe('+ingest -teacher xstudent  eval  cancelled');
  });

  it('formats durations', () => {
    expect([duration(9.4), duration(75), duration(3600 + 120)]).toEqual(['9s', '1m15s', '1h02m']);
  });
});

describe('comparison table', () => {
  it('puts runs side by side with the baseline and the relative gain over the first run', () => {
    const summary = (recall: number) =>
      ({ test: { 'recall@20': recall }, popularity: { 'recall@20': 0.05 } }) as unknown as RunSummary;
    const text = comparisonTable(
      [
        { label: 'VBPR', summary: summary(0.1) },
        { label: 'VBPR+SGFD', summary: summary(0.125) },
      ],
      ['recall@20'],
    );
    expect(text.split('\n')).toEqual([
      'test               recall@20',
      '-----------------  ---------',
      'VBPR                  0.1000',
      'VBPR+SGFD             0.1250',
      'most popular          0.0500',
      'gain of VBPR+SGFD    +25.0 %',
    ]);
  });
});
