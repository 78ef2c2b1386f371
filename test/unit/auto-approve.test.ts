import { autoDecision } from '../../src/workflows/auto-approve';
import { aSyncInput } from '../support/builders';

const plan = (pointsToCreate: number, stationsToChange: number) => ({ pointsToCreate, stationsToChange });

describe('autoDecision', () => {
  it('leaves every plan to an operator without a policy', () => {
    expect(autoDecision(aSyncInput(), plan(1, 1))).toEqual({});
  });

  it('applies any plan with --auto-approve (no limit)', () => {
    expect(autoDecision(aSyncInput({ autoApprove: true }), plan(100_000, 5000))).toEqual({ approver: 'auto-approve' });
  });

  it('applies a plan at or below the points limit, recording the limit', () => {
    expect(autoDecision(aSyncInput({ autoApproveMaxPoints: 50 }), plan(50, 40))).toEqual({ approver: 'auto-approve (limit 50)' });
    expect(autoDecision(aSyncInput({ autoApproveMaxPoints: 50 }), plan(1, 1))).toEqual({ approver: 'auto-approve (limit 50)' });
  });

  it('leaves a plan above the points limit to an operator, saying why', () => {
    expect(autoDecision(aSyncInput({ autoApproveMaxPoints: 50 }), plan(51, 1))).toEqual({ waitReason: '51 points to create exceed the auto-approve limit of 50' });
  });

  it('needs both limits to hold when both are given', () => {
    const input = aSyncInput({ autoApproveMaxPoints: 50, autoApproveMaxStations: 5 });
    expect(autoDecision(input, plan(20, 5))).toEqual({ approver: 'auto-approve (limit 50, 5 stations)' });
    expect(autoDecision(input, plan(20, 6))).toEqual({ waitReason: '6 stations to change exceed the auto-approve limit of 5 stations' });
    expect(autoDecision(input, plan(60, 6))).toEqual({
      waitReason: '60 points to create exceed the auto-approve limit of 50; 6 stations to change exceed the auto-approve limit of 5 stations',
    });
  });

  it('applies with a stations limit alone', () => {
    expect(autoDecision(aSyncInput({ autoApproveMaxStations: 3 }), plan(200, 3))).toEqual({ approver: 'auto-approve (limit 3 stations)' });
    expect(autoDecision(aSyncInput({ autoApproveMaxStations: 1 }), plan(2, 2))).toEqual({ waitReason: '2 stations to change exceed the auto-approve limit of 1 station' });
  });
});
